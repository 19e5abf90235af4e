"""``python -m agentwrite.cli``: the ``agentwrite`` command."""

from agentwrite.cli.root import main

if __name__ == "__main__":  # not when imported (pytest's doctest collection imports every module)
    main()

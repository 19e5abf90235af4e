"""The old import path of ``agentwrite.material.read``, kept because the README told users to
make chunks with ``agentwrite.sources.split_text``; new code imports ``agentwrite.material``.

>>> import agentwrite.material
>>> split_text is agentwrite.material.split_text
True
"""

from agentwrite.material.read import Chunk, split_text

__all__ = ["Chunk", "split_text"]

"""A section's text as it is written: watched while it streams, checked, cleaned, stitched.

This room holds what reads a section's text without a model, while or after it is written.
The loop guard (``loop_guard``) cuts loops, copies, echoes and gibberish from an answer as it
streams, with ``loop_rules`` for where a loop starts and ``streamed_text`` for a growing
text's sentences and code blocks read once. The judge-free checks: the language a text is in
against the brief's (``language``), lines that talk about the writing instead of being it
(``talk``), how closely a text keeps to its brief and planned main point (``topic``), those
checks as the writer runs them on a section (``checks``) and on a plan (``plan_checks``),
and the extra tokens their re-asks may spend (``budget``). Around the writing: the text so far
fitted to the room a prompt leaves (``prior_text``), and a section's text cleaned and the
sections stitched into one Markdown document (``markdown``), with Markdown's heading and
fence lines read by one rule (``markdown_lines``, which the material's reader and the plan
repairs use too). Each is cheap enough to run on
every sentence as a section streams; this package's ``__init__`` imports none of them.
"""

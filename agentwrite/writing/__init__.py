"""The writing's own checks, as it is written: judge-free tests a section passes or fails.

This room holds what looks at a section's text while or after it is written, without a model:
the language a text is in against the brief's (``language``), lines that talk about the
writing instead of being it (``talk``), and how closely a text keeps to its brief and its
planned main point (``topic``). Each is a pure function of text, cheap enough to run on every
sentence as a section streams; the loop guard and the choose-or-revise loop call them.
"""

"""The user's own material (notes, a report, a transcript) and how it reaches the writing.
One vocabulary throughout: the *material* of a run is read from *source* files (the
``--source`` flag) into *chunks* with stable ids (``read``: reading, splitting, the run's
fingerprint of it); a plan gives each section the ids of its chunks in ``SectionPlan.sources``,
and ``assign`` reads those ids, gives out the chunks a plan leaves unassigned, and fits the
material the planner and each section writer are shown into the context window.

>>> from agentwrite.material import split_text
>>> [chunk.id for chunk in split_text("# Tea\\n\\nTea is old.", "notes.md")]
['notes.md#1']
"""

from agentwrite.material.read import Chunk, load_material, split_text

__all__ = ["Chunk", "load_material", "split_text"]

"""Text checks over plain strings: forbidden topics (``topics``) and the language of a script
(``language``). No Django, like the rest of the engine."""

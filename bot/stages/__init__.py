"""The stages of a repair run, one module each, in the order ``bot/pipeline.py`` runs them:
baseline, analysis, candidates, screening (``search`` drives both), proof, round, result.
``context`` holds what they share; ``budget`` what they ask of the one time budget."""

"""Scientist pages of synth_workers: systems and corpora (``catalogue``), synthesis jobs
(``jobs``), the audition grid (``audition``) and the workspace's imports (``workspace``)."""

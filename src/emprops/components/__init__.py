"""Components: the typed, versioned workflows a step names, and compiling a step into a job.

Modules: `form` (fields and their checks), `templates` (each kind's template), `compile` (a step
into a job), `cost` and `credits_js` (costs as data), `importer` (the original format), and the
registry (`service`, `repository`, `schemas`, `endpoints`: versions in the database, the admin API).
This package's face stays empty so that importing `compile` does not pull in the database.
"""

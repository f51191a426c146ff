"""What this package knows about the Hayhooks server, for every target and the policy pack.

`facts` (ports, paths, the run command: no dependencies, read by the builders and the policy pack), `settings_table`
(each server setting once: its variable, its type, the key that sets it), `env` (the variables written from the
models, and what a user may set), `cors` and `models` (the `server` config), `checks` (what production refuses).
"""

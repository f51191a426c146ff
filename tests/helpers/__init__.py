"""What several test modules share, so that no test module imports another.

- `paths`: the repository's folders.
- `engine`: the SDK mock engine the render uses, the one way a test runs a Pulumi program.
- `render`: the README's render in a fresh interpreter, and each stack's render made once per session.
- `kubernetes`, `edges`, `docker`: HayhooksService / HayhooksContainer args and lookups over what they register.
- `manifests`: hand-written Kubernetes manifests the policy rules are checked on.

Importable as `helpers` because pytest puts `tests/` on `sys.path` (`pythonpath` in pyproject.toml).
"""

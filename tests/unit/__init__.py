"""Unit tests, laid out like components/hayhooks_pulumi: one folder per subpackage, top-level modules here."""

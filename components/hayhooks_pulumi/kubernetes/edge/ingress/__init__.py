"""The Ingress edge: its models, checks and objects (the Ingress, its htpasswd Secret, Traefik's Middlewares)."""

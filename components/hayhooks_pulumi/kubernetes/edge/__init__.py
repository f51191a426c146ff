"""The public edge, either kind: an Ingress (`edge.ingress`) or a Gateway API route (`edge.gateway`), and what
both share: the paths they route, the origins their CORS takes, the basic-auth user, the credentials they carry."""

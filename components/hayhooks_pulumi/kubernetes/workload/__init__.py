"""The workload: the pods' models, checks and objects (Deployment, pipelines ConfigMap, Service, ServiceAccount,
autoscaler, disruption budget)."""

"""Offline render: run a Pulumi program under the SDK's mock engine and write what it would register."""

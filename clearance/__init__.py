"""The security kernel: identity, roles, audit, labels, access policy, encryption."""

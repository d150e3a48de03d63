"""The register: industry associations, companies and company groups (企業群)."""

"""Region and key specifications and the ``cmek_config.json`` document: the domain every other
layer speaks (pure: no Pulumi, no network)."""

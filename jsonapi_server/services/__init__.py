"""The domain rules: plain values and the acting user in, models out; no HTTP, no JSON:API."""

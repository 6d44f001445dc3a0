"""Domain rules. Handlers call these; these call models and the WeChat client."""

"""Local-only tooling: the emulated AWS, the WeChat stand-in, the SQS pump, demo data, the simulator.

Nothing here is deployed; ``chalicelib`` never imports it.
"""

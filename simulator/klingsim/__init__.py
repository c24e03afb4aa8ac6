"""klingsim: a local simulator of the public Kling O3 / Kling 3.0 video-generation APIs."""

__version__ = "0.1.0"

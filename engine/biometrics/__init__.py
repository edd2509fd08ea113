"""Identity measurements shared by consent verification, enrollment and the quality benchmarks.

- ``face``: face identity embeddings (dlib ResNet, public domain) and distances.
- ``speaker``: speaker embeddings (resemblyzer, Apache-2.0) and similarities.
"""

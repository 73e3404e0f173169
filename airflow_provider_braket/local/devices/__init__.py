"""The devices the service knows: managed simulators, emulated QPUs, retired QPUs.

``table`` answers GetDevice and SearchDevices and what CreateJob and CreateQuantumTask say about a
device; ``simulators``, ``qpus`` and ``retired`` are the catalogues, each from a named public
source (``snapshots/SOURCES.md`` for the QPUs' capabilities documents); ``emulation`` checks and
runs a program as an emulated QPU would. Imports only the shared base (config, exceptions).
"""

"""The Raspberry Pi hardware interface, with simulated drivers.

Amplifier relay, volume, sensors and watchdog.
"""

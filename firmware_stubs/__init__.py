"""The Raspberry Pi hardware interface (amplifier relay, volume, sensors, watchdog) with simulated drivers."""

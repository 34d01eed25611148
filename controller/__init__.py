"""Wardcast controller: bulletins, broadcasts, devices and evidence, over HTTP and MQTT."""

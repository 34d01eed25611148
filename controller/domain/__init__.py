"""Domain services: what the controller does, free of HTTP and of MQTT."""

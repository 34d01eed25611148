"""Controller side of MQTT: the embedded broker and the bridge to the domain."""

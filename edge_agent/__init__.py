"""Wardcast edge agent: keeps a plan, fetches and verifies audio, plays on time, confirms.

core        EdgeAgent: one device's state machine (start here)
playback    the play loop: order, preemption, outcomes, journal
relay       live-stream relays (relay_books: what was heard; stream: ffmpeg and
            reconnects; pcm: levels and sinks)
inbox       verification of everything the controller sends
evidence    signed, chained PlaybackEvents; outbox the SQLite they live in
uplink      publishing and resending; plan_store, media_cache the files on disk
player      what players share; simulated_player, alsa_player (ffmpeg | aplay) and
            amplifier (the relay and volume around a play); wiring builds an agent
fleet       AgentFleet: many agents in one loop; cli: `wardcast-agent run|simulate`
air_check   for tests and benchmarks: what really sounded; fake_media a fetcher and
            live streams; controller_stand_in ControllerStandIn and plan items
"""

from importlib.metadata import PackageNotFoundError, version

try:
    AGENT_VERSION = version("wardcast")
except PackageNotFoundError:  # running from a source tree that was never installed
    AGENT_VERSION = "0.0.0+source"

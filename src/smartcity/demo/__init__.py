"""The live Ho Chi Minh City demo: real city data replayed through the platform's own ingestion path.

``smartcity demo`` starts the platform, loads the static layers (wards, bus stops, bus routes) through the hub's
service interface, provisions the city's sensors in the IoT agent and replays measurements as device messages
(see ``docs/demo.md``). The readers (:mod:`.air`, :mod:`.weather`, :mod:`.wards`, :mod:`.transit`,
:mod:`.traffic`, :mod:`.parking`) and the models (:mod:`.flood`, :mod:`.fleet`) are pure functions over the
files shipped in ``smartcity/demo/data``; :mod:`.timeline` maps their timelines onto the demo's simulated clock,
:mod:`.replay` sends the messages and :mod:`.runner` ties it to the running server.
"""

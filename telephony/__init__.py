"""The edge to the telephony provider (Twilio): the only package that imports `twilio`.

- `twiml`: engine events -> TwiML; a turn's events stored for replay on retries.
- `inputs`: Twilio's webhook forms -> typed engine inputs and call facts.
- `signature`: X-Twilio-Signature checks for every Twilio-facing route.
- `base`, `twilio_port`: the outgoing-call port and its Twilio implementation (the other,
  `simulator.port`, registers itself); `ports.make_port` picks one by the TELEPHONY setting.
- `fake_twilio`: a local fake of Twilio's REST API over real HTTP, for tests and benchmarks.

The flow engine (`ivr.flows`) knows nothing of this package; the webhooks use it
to turn a POST into a typed resume and the engine's events into an answer.
"""

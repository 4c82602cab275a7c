"""A transparent CTA trend-following replica: signals, trigger levels, replays, flow scenarios."""

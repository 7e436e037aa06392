"""ASR building blocks: label set, greedy CTC decoding, the small embedded CTC model, speech synthesis."""

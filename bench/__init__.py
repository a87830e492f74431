"""teamlore's benchmark harness: retrieval quality (LoCoMo, BEIR layout), latency, throughput and memory."""

"""teamlore's composition root: settings, the CLI, logging, the one-process runtime, REST API and client."""

"""Who said what: attribution relations (source, cue, content), their source types and modality."""

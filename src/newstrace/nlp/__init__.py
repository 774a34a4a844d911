"""Per-document language annotation: sentences, entities and actors, places, time expressions."""

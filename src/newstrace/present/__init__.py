"""Presenting a store: the self-contained HTML report (:mod:`.report`) and the local web app (:mod:`.server`),
both drawing the views of :mod:`.views`."""

"""The architecture sweep: one trial (``trial``), the search over trials (``search``), trials on Beam (``beam``)."""

package dev.lorastream.worker.engine;

public record ContributorShare(String contributorId, double share) {}

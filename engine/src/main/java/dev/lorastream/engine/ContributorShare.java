package dev.lorastream.engine;

public record ContributorShare(String contributorId, double share) {}

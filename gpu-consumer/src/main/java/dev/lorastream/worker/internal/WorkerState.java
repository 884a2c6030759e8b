package dev.lorastream.worker.internal;

/** Life cycle of a worker as its heartbeats report it. */
public enum WorkerState { STARTING, RUNNING, STOPPING }

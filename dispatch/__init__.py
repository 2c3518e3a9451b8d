"""The dispatch domain: tickets, cases, squads, the case loop, storage and the event bus."""

-- Ironic's per-node tables that sit beside nodes and ports: portgroups,
-- volume connectors and targets, traits, BIOS settings, history and the
-- hardware inventory an agent reports. Column names follow Ironic's models.

CREATE TABLE portgroups (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    address VARCHAR(18) UNIQUE,
    extra TEXT,
    internal_info TEXT,
    standalone_ports_supported BOOLEAN NOT NULL DEFAULT 1,
    mode VARCHAR(255),
    properties TEXT,
    physical_network VARCHAR(64),
    category VARCHAR(80),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX portgroups_node_id_idx ON portgroups (node_id);

CREATE TABLE volume_connectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    type VARCHAR(32) NOT NULL,
    connector_id VARCHAR(255) NOT NULL,
    extra TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    UNIQUE (type, connector_id)
);
CREATE INDEX volume_connectors_node_id_idx ON volume_connectors (node_id);

CREATE TABLE volume_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    volume_type VARCHAR(64) NOT NULL,
    properties TEXT,
    boot_index INTEGER NOT NULL,
    volume_id VARCHAR(36) NOT NULL,
    extra TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    UNIQUE (node_id, boot_index)
);

CREATE TABLE node_traits (
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    trait VARCHAR(255) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    PRIMARY KEY (node_id, trait)
);
CREATE INDEX node_traits_idx ON node_traits (trait);

CREATE TABLE bios_settings (
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    name VARCHAR(255) NOT NULL,
    value TEXT,
    attribute_type VARCHAR(255),
    allowable_values TEXT,
    lower_bound BIGINT,
    max_length INTEGER,
    min_length INTEGER,
    read_only BOOLEAN,
    reset_required BOOLEAN,
    "unique" BOOLEAN,
    upper_bound BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    PRIMARY KEY (node_id, name)
);

CREATE TABLE node_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    conductor VARCHAR(255),
    event_type VARCHAR(255),
    severity VARCHAR(255),
    event TEXT,
    user VARCHAR(64),
    project VARCHAR(80),
    state VARCHAR(255),
    target_provision_state VARCHAR(255),
    duration_seconds INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX history_node_id_idx ON node_history (node_id);

CREATE TABLE node_inventory (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    node_id INTEGER NOT NULL UNIQUE REFERENCES nodes (id),
    inventory_data TEXT NOT NULL,
    plugin_data TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);

-- Ironic's per-node tables that sit beside nodes and ports: portgroups,
-- volume connectors and targets, traits, BIOS settings, history and the
-- hardware inventory an agent reports. Column names follow Ironic's models.

CREATE TABLE portgroups (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    address VARCHAR(18) UNIQUE,
    extra MEDIUMTEXT,
    internal_info MEDIUMTEXT,
    standalone_ports_supported BOOLEAN NOT NULL DEFAULT TRUE,
    mode VARCHAR(255),
    properties MEDIUMTEXT,
    physical_network VARCHAR(64),
    category VARCHAR(80),
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX portgroups_node_id_idx ON portgroups (node_id);

CREATE TABLE volume_connectors (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    type VARCHAR(32) NOT NULL,
    connector_id VARCHAR(255) NOT NULL,
    extra MEDIUMTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    UNIQUE (type, connector_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX volume_connectors_node_id_idx ON volume_connectors (node_id);

CREATE TABLE volume_targets (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    volume_type VARCHAR(64) NOT NULL,
    properties MEDIUMTEXT,
    boot_index INTEGER NOT NULL,
    volume_id VARCHAR(36) NOT NULL,
    extra MEDIUMTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    UNIQUE (node_id, boot_index)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE node_traits (
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    trait VARCHAR(255) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    PRIMARY KEY (node_id, trait)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX node_traits_idx ON node_traits (trait);

CREATE TABLE bios_settings (
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    name VARCHAR(255) NOT NULL,
    value MEDIUMTEXT,
    attribute_type VARCHAR(255),
    allowable_values MEDIUMTEXT,
    lower_bound BIGINT,
    max_length INTEGER,
    min_length INTEGER,
    read_only BOOLEAN,
    reset_required BOOLEAN,
    `unique` BOOLEAN,
    upper_bound BIGINT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    PRIMARY KEY (node_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE node_history (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    conductor VARCHAR(255),
    event_type VARCHAR(255),
    severity VARCHAR(255),
    event MEDIUMTEXT,
    `user` VARCHAR(64),
    project VARCHAR(80),
    state VARCHAR(255),
    target_provision_state VARCHAR(255),
    duration_seconds INTEGER,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX history_node_id_idx ON node_history (node_id);

CREATE TABLE node_inventory (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    node_id INTEGER NOT NULL UNIQUE REFERENCES nodes (id),
    inventory_data LONGTEXT NOT NULL,
    plugin_data LONGTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Initial schema: Ironic's core tables (same column names and meaning) plus
-- Berth's conductors, tasks and task log lines. JSON blobs are TEXT.

CREATE TABLE chassis (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    extra TEXT,
    description VARCHAR(255),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);

CREATE TABLE conductors (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    hostname VARCHAR(255) NOT NULL UNIQUE,
    online BOOLEAN NOT NULL DEFAULT 1,
    conductor_group VARCHAR(255) NOT NULL DEFAULT '',
    hardware_types TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);

CREATE TABLE nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    instance_uuid VARCHAR(36) UNIQUE,
    instance_name VARCHAR(255),
    chassis_id INTEGER REFERENCES chassis (id),
    power_state VARCHAR(15),
    target_power_state VARCHAR(15),
    provision_state VARCHAR(15) NOT NULL,
    target_provision_state VARCHAR(15),
    provision_updated_at TIMESTAMP,
    last_error TEXT,
    instance_info TEXT,
    properties TEXT,
    driver VARCHAR(255) NOT NULL,
    driver_info TEXT,
    driver_internal_info TEXT,
    clean_step TEXT,
    deploy_step TEXT,
    service_step TEXT,
    raid_config TEXT,
    target_raid_config TEXT,
    reservation VARCHAR(255),
    conductor_affinity INTEGER REFERENCES conductors (id),
    conductor_group VARCHAR(255) NOT NULL DEFAULT '',
    maintenance BOOLEAN NOT NULL DEFAULT 0,
    maintenance_reason TEXT,
    fault VARCHAR(255),
    console_enabled BOOLEAN NOT NULL DEFAULT 0,
    inspection_started_at TIMESTAMP,
    inspection_finished_at TIMESTAMP,
    extra TEXT,
    automated_clean BOOLEAN,
    protected BOOLEAN NOT NULL DEFAULT 0,
    protected_reason TEXT,
    retired BOOLEAN NOT NULL DEFAULT 0,
    retired_reason TEXT,
    owner VARCHAR(255),
    lessee VARCHAR(255),
    allocation_id INTEGER,
    description TEXT,
    resource_class VARCHAR(80),
    network_data TEXT,
    boot_mode VARCHAR(16),
    secure_boot BOOLEAN,
    shard VARCHAR(255),
    parent_node VARCHAR(36),
    disable_power_off BOOLEAN NOT NULL DEFAULT 0,
    bios_interface VARCHAR(255),
    boot_interface VARCHAR(255),
    console_interface VARCHAR(255),
    deploy_interface VARCHAR(255),
    firmware_interface VARCHAR(255),
    inspect_interface VARCHAR(255),
    management_interface VARCHAR(255),
    network_interface VARCHAR(255),
    power_interface VARCHAR(255),
    raid_interface VARCHAR(255),
    rescue_interface VARCHAR(255),
    storage_interface VARCHAR(255),
    vendor_interface VARCHAR(255),
    -- Berth's own: what the hardware says it is, and where it belongs.
    serial VARCHAR(255),
    roles TEXT,
    cluster VARCHAR(255),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX nodes_provision_state_idx ON nodes (provision_state);
CREATE INDEX nodes_reservation_idx ON nodes (reservation);
CREATE INDEX nodes_owner_idx ON nodes (owner);
CREATE INDEX nodes_serial_idx ON nodes (serial);

CREATE TABLE ports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    address VARCHAR(18) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    name VARCHAR(255) UNIQUE,
    extra TEXT,
    local_link_connection TEXT,
    portgroup_id INTEGER,
    pxe_enabled BOOLEAN NOT NULL DEFAULT 1,
    internal_info TEXT,
    physical_network VARCHAR(64),
    is_smartnic BOOLEAN NOT NULL DEFAULT 0,
    vendor VARCHAR(255),
    category VARCHAR(80),
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX ports_node_id_idx ON ports (node_id);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER REFERENCES nodes (id),
    kind VARCHAR(64) NOT NULL,
    state VARCHAR(32) NOT NULL,
    request_id VARCHAR(64),
    conductor VARCHAR(255),
    params TEXT,
    result TEXT,
    error TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX tasks_node_id_idx ON tasks (node_id);
CREATE INDEX tasks_state_idx ON tasks (state);

CREATE TABLE task_log_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    level VARCHAR(16) NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (task_id, seq)
);

-- Initial schema (MariaDB/MySQL twin of the SQLite one): Ironic's core tables (same column names and meaning) plus
-- Berth's conductors, tasks and task log lines. JSON blobs are MEDIUMTEXT.

CREATE TABLE chassis (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    extra MEDIUMTEXT,
    description VARCHAR(255),
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE conductors (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    hostname VARCHAR(255) NOT NULL UNIQUE,
    online BOOLEAN NOT NULL DEFAULT TRUE,
    conductor_group VARCHAR(255) NOT NULL DEFAULT '',
    hardware_types MEDIUMTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE nodes (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    instance_uuid VARCHAR(36) UNIQUE,
    instance_name VARCHAR(255),
    chassis_id INTEGER REFERENCES chassis (id),
    power_state VARCHAR(15),
    target_power_state VARCHAR(15),
    provision_state VARCHAR(15) NOT NULL,
    target_provision_state VARCHAR(15),
    provision_updated_at DATETIME,
    last_error MEDIUMTEXT,
    instance_info MEDIUMTEXT,
    properties MEDIUMTEXT,
    driver VARCHAR(255) NOT NULL,
    driver_info MEDIUMTEXT,
    driver_internal_info MEDIUMTEXT,
    clean_step MEDIUMTEXT,
    deploy_step MEDIUMTEXT,
    service_step MEDIUMTEXT,
    raid_config MEDIUMTEXT,
    target_raid_config MEDIUMTEXT,
    reservation VARCHAR(255),
    conductor_affinity INTEGER REFERENCES conductors (id),
    conductor_group VARCHAR(255) NOT NULL DEFAULT '',
    maintenance BOOLEAN NOT NULL DEFAULT FALSE,
    maintenance_reason MEDIUMTEXT,
    fault VARCHAR(255),
    console_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    inspection_started_at DATETIME,
    inspection_finished_at DATETIME,
    extra MEDIUMTEXT,
    automated_clean BOOLEAN,
    protected BOOLEAN NOT NULL DEFAULT FALSE,
    protected_reason MEDIUMTEXT,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    retired_reason MEDIUMTEXT,
    owner VARCHAR(255),
    lessee VARCHAR(255),
    allocation_id INTEGER,
    description MEDIUMTEXT,
    resource_class VARCHAR(80),
    network_data MEDIUMTEXT,
    boot_mode VARCHAR(16),
    secure_boot BOOLEAN,
    shard VARCHAR(255),
    parent_node VARCHAR(36),
    disable_power_off BOOLEAN NOT NULL DEFAULT FALSE,
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
    roles MEDIUMTEXT,
    cluster VARCHAR(255),
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX nodes_provision_state_idx ON nodes (provision_state);
CREATE INDEX nodes_reservation_idx ON nodes (reservation);
CREATE INDEX nodes_owner_idx ON nodes (owner);
CREATE INDEX nodes_serial_idx ON nodes (serial);

CREATE TABLE ports (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    address VARCHAR(18) NOT NULL UNIQUE,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    name VARCHAR(255) UNIQUE,
    extra MEDIUMTEXT,
    local_link_connection MEDIUMTEXT,
    portgroup_id INTEGER,
    pxe_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    internal_info MEDIUMTEXT,
    physical_network VARCHAR(64),
    is_smartnic BOOLEAN NOT NULL DEFAULT FALSE,
    vendor VARCHAR(255),
    category VARCHAR(80),
    description MEDIUMTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX ports_node_id_idx ON ports (node_id);

CREATE TABLE tasks (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    node_id INTEGER REFERENCES nodes (id),
    kind VARCHAR(64) NOT NULL,
    state VARCHAR(32) NOT NULL,
    request_id VARCHAR(64),
    conductor VARCHAR(255),
    params MEDIUMTEXT,
    result MEDIUMTEXT,
    error MEDIUMTEXT,
    started_at DATETIME,
    finished_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX tasks_node_id_idx ON tasks (node_id);
CREATE INDEX tasks_state_idx ON tasks (state);

CREATE TABLE task_log_lines (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    level VARCHAR(16) NOT NULL,
    message TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (task_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

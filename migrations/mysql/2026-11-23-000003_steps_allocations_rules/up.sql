-- The rest of Ironic's data model: allocations, deploy templates and
-- runbooks with their steps, inspection rules, firmware components, and the
-- node/port/portgroup columns added after 1.46 (health, dynamic portgroups).
-- Column names follow Ironic's models.

CREATE TABLE allocations (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    node_id INTEGER,
    state VARCHAR(15) NOT NULL,
    owner VARCHAR(255),
    last_error MEDIUMTEXT,
    resource_class VARCHAR(80),
    traits MEDIUMTEXT,
    candidate_nodes MEDIUMTEXT,
    extra MEDIUMTEXT,
    conductor_affinity INTEGER,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX allocations_node_id_idx ON allocations (node_id);

CREATE TABLE deploy_templates (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    extra MEDIUMTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE deploy_template_steps (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    deploy_template_id INTEGER NOT NULL REFERENCES deploy_templates (id),
    interface VARCHAR(255) NOT NULL,
    step VARCHAR(255) NOT NULL,
    args MEDIUMTEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX deploy_template_steps_template_idx ON deploy_template_steps (deploy_template_id);

CREATE TABLE runbooks (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    description VARCHAR(255),
    public BOOLEAN NOT NULL DEFAULT FALSE,
    owner VARCHAR(255),
    disable_ramdisk BOOLEAN NOT NULL DEFAULT FALSE,
    extra MEDIUMTEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE runbook_steps (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id),
    interface VARCHAR(255) NOT NULL,
    step VARCHAR(255) NOT NULL,
    args MEDIUMTEXT NOT NULL,
    `order` INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX runbook_steps_runbook_idx ON runbook_steps (runbook_id);

CREATE TABLE runbook_traits (
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id),
    trait VARCHAR(255) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    PRIMARY KEY (runbook_id, trait)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE inspection_rules (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    priority INTEGER NOT NULL DEFAULT 0,
    description VARCHAR(255),
    scope VARCHAR(255),
    `sensitive` BOOLEAN NOT NULL DEFAULT FALSE,
    phase VARCHAR(16) NOT NULL DEFAULT 'main',
    conditions MEDIUMTEXT,
    actions MEDIUMTEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX inspection_rule_scope_idx ON inspection_rules (scope);
CREATE INDEX inspection_rule_phase_idx ON inspection_rules (phase);

CREATE TABLE firmware_information (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    component VARCHAR(255) NOT NULL,
    initial_version VARCHAR(255) NOT NULL,
    current_version VARCHAR(255),
    last_version_flashed VARCHAR(255),
    vendor VARCHAR(255),
    model VARCHAR(255),
    serial_number VARCHAR(255),
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    UNIQUE (node_id, component)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE nodes ADD COLUMN health VARCHAR(32);
ALTER TABLE ports ADD COLUMN available_for_dynamic_portgroup BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE portgroups ADD COLUMN dynamic_portgroup BOOLEAN NOT NULL DEFAULT FALSE;

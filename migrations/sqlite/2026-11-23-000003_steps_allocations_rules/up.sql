-- The rest of Ironic's data model: allocations, deploy templates and
-- runbooks with their steps, inspection rules, firmware components, and the
-- node/port/portgroup columns added after 1.46 (health, dynamic portgroups).
-- Column names follow Ironic's models.

CREATE TABLE allocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) UNIQUE,
    node_id INTEGER,
    state VARCHAR(15) NOT NULL,
    owner VARCHAR(255),
    last_error TEXT,
    resource_class VARCHAR(80),
    traits TEXT,
    candidate_nodes TEXT,
    extra TEXT,
    conductor_affinity INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX allocations_node_id_idx ON allocations (node_id);

CREATE TABLE deploy_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    extra TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);

CREATE TABLE deploy_template_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    deploy_template_id INTEGER NOT NULL REFERENCES deploy_templates (id),
    interface VARCHAR(255) NOT NULL,
    step VARCHAR(255) NOT NULL,
    args TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX deploy_template_steps_template_idx ON deploy_template_steps (deploy_template_id);

CREATE TABLE runbooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    description VARCHAR(255),
    public BOOLEAN NOT NULL DEFAULT 0,
    owner VARCHAR(255),
    disable_ramdisk BOOLEAN NOT NULL DEFAULT 0,
    extra TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);

CREATE TABLE runbook_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id),
    interface VARCHAR(255) NOT NULL,
    step VARCHAR(255) NOT NULL,
    args TEXT NOT NULL,
    "order" INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX runbook_steps_runbook_idx ON runbook_steps (runbook_id);

CREATE TABLE runbook_traits (
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id),
    trait VARCHAR(255) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    PRIMARY KEY (runbook_id, trait)
);

CREATE TABLE inspection_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    priority INTEGER NOT NULL DEFAULT 0,
    description VARCHAR(255),
    scope VARCHAR(255),
    sensitive BOOLEAN NOT NULL DEFAULT 0,
    phase VARCHAR(16) NOT NULL DEFAULT 'main',
    conditions TEXT,
    actions TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP
);
CREATE INDEX inspection_rule_scope_idx ON inspection_rules (scope);
CREATE INDEX inspection_rule_phase_idx ON inspection_rules (phase);

CREATE TABLE firmware_information (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    component VARCHAR(255) NOT NULL,
    initial_version VARCHAR(255) NOT NULL,
    current_version VARCHAR(255),
    last_version_flashed VARCHAR(255),
    vendor VARCHAR(255),
    model VARCHAR(255),
    serial_number VARCHAR(255),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    UNIQUE (node_id, component)
);

ALTER TABLE nodes ADD COLUMN health VARCHAR(32);
ALTER TABLE ports ADD COLUMN available_for_dynamic_portgroup BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE portgroups ADD COLUMN dynamic_portgroup BOOLEAN NOT NULL DEFAULT 0;

DROP TABLE node_inventory;
DROP TABLE node_history;
DROP TABLE bios_settings;
DROP TABLE node_traits;
DROP TABLE volume_targets;
DROP TABLE volume_connectors;
DROP TABLE portgroups;

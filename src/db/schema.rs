//! diesel's view of the tables in `migrations/`; both backends share it.
//! Keep it in step with the migrations: the migration tests insert and read
//! every table through it on SQLite and MariaDB.

diesel::table! {
    chassis (id) {
        id -> Integer,
        uuid -> Text,
        extra -> Nullable<Text>,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conductors (id) {
        id -> Integer,
        hostname -> Text,
        online -> Bool,
        conductor_group -> Text,
        hardware_types -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    nodes (id) {
        id -> Integer,
        uuid -> Text,
        name -> Nullable<Text>,
        instance_uuid -> Nullable<Text>,
        instance_name -> Nullable<Text>,
        chassis_id -> Nullable<Integer>,
        power_state -> Nullable<Text>,
        target_power_state -> Nullable<Text>,
        provision_state -> Text,
        target_provision_state -> Nullable<Text>,
        provision_updated_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        instance_info -> Nullable<Text>,
        properties -> Nullable<Text>,
        driver -> Text,
        driver_info -> Nullable<Text>,
        driver_internal_info -> Nullable<Text>,
        clean_step -> Nullable<Text>,
        deploy_step -> Nullable<Text>,
        service_step -> Nullable<Text>,
        raid_config -> Nullable<Text>,
        target_raid_config -> Nullable<Text>,
        reservation -> Nullable<Text>,
        conductor_affinity -> Nullable<Integer>,
        conductor_group -> Text,
        maintenance -> Bool,
        maintenance_reason -> Nullable<Text>,
        fault -> Nullable<Text>,
        console_enabled -> Bool,
        inspection_started_at -> Nullable<Timestamp>,
        inspection_finished_at -> Nullable<Timestamp>,
        extra -> Nullable<Text>,
        automated_clean -> Nullable<Bool>,
        protected -> Bool,
        protected_reason -> Nullable<Text>,
        retired -> Bool,
        retired_reason -> Nullable<Text>,
        owner -> Nullable<Text>,
        lessee -> Nullable<Text>,
        allocation_id -> Nullable<Integer>,
        description -> Nullable<Text>,
        resource_class -> Nullable<Text>,
        network_data -> Nullable<Text>,
        boot_mode -> Nullable<Text>,
        secure_boot -> Nullable<Bool>,
        shard -> Nullable<Text>,
        parent_node -> Nullable<Text>,
        disable_power_off -> Bool,
        health -> Nullable<Text>,
        bios_interface -> Nullable<Text>,
        boot_interface -> Nullable<Text>,
        console_interface -> Nullable<Text>,
        deploy_interface -> Nullable<Text>,
        firmware_interface -> Nullable<Text>,
        inspect_interface -> Nullable<Text>,
        management_interface -> Nullable<Text>,
        network_interface -> Nullable<Text>,
        power_interface -> Nullable<Text>,
        raid_interface -> Nullable<Text>,
        rescue_interface -> Nullable<Text>,
        storage_interface -> Nullable<Text>,
        vendor_interface -> Nullable<Text>,
        serial -> Nullable<Text>,
        roles -> Nullable<Text>,
        cluster -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ports (id) {
        id -> Integer,
        uuid -> Text,
        address -> Text,
        node_id -> Integer,
        name -> Nullable<Text>,
        extra -> Nullable<Text>,
        local_link_connection -> Nullable<Text>,
        portgroup_id -> Nullable<Integer>,
        pxe_enabled -> Bool,
        internal_info -> Nullable<Text>,
        physical_network -> Nullable<Text>,
        is_smartnic -> Bool,
        vendor -> Nullable<Text>,
        category -> Nullable<Text>,
        description -> Nullable<Text>,
        available_for_dynamic_portgroup -> Bool,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tasks (id) {
        id -> Integer,
        uuid -> Text,
        node_id -> Nullable<Integer>,
        kind -> Text,
        state -> Text,
        request_id -> Nullable<Text>,
        conductor -> Nullable<Text>,
        params -> Nullable<Text>,
        result -> Nullable<Text>,
        error -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    task_log_lines (id) {
        id -> Integer,
        task_id -> Integer,
        seq -> Integer,
        level -> Text,
        message -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    portgroups (id) {
        id -> Integer,
        uuid -> Text,
        name -> Nullable<Text>,
        node_id -> Integer,
        address -> Nullable<Text>,
        extra -> Nullable<Text>,
        internal_info -> Nullable<Text>,
        standalone_ports_supported -> Bool,
        mode -> Nullable<Text>,
        properties -> Nullable<Text>,
        physical_network -> Nullable<Text>,
        category -> Nullable<Text>,
        dynamic_portgroup -> Bool,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    volume_connectors (id) {
        id -> Integer,
        uuid -> Text,
        node_id -> Integer,
        #[sql_name = "type"]
        connector_type -> Text,
        connector_id -> Text,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    volume_targets (id) {
        id -> Integer,
        uuid -> Text,
        node_id -> Integer,
        volume_type -> Text,
        properties -> Nullable<Text>,
        boot_index -> Integer,
        volume_id -> Text,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    node_traits (node_id, trait_) {
        node_id -> Integer,
        #[sql_name = "trait"]
        trait_ -> Text,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bios_settings (node_id, name) {
        node_id -> Integer,
        name -> Text,
        value -> Nullable<Text>,
        attribute_type -> Nullable<Text>,
        allowable_values -> Nullable<Text>,
        lower_bound -> Nullable<BigInt>,
        max_length -> Nullable<Integer>,
        min_length -> Nullable<Integer>,
        read_only -> Nullable<Bool>,
        reset_required -> Nullable<Bool>,
        #[sql_name = "unique"]
        unique_ -> Nullable<Bool>,
        upper_bound -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    node_history (id) {
        id -> Integer,
        uuid -> Text,
        node_id -> Integer,
        conductor -> Nullable<Text>,
        event_type -> Nullable<Text>,
        severity -> Nullable<Text>,
        event -> Nullable<Text>,
        user -> Nullable<Text>,
        project -> Nullable<Text>,
        state -> Nullable<Text>,
        target_provision_state -> Nullable<Text>,
        duration_seconds -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    node_inventory (id) {
        id -> Integer,
        node_id -> Integer,
        inventory_data -> Text,
        plugin_data -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    allocations (id) {
        id -> Integer,
        uuid -> Text,
        name -> Nullable<Text>,
        node_id -> Nullable<Integer>,
        state -> Text,
        owner -> Nullable<Text>,
        last_error -> Nullable<Text>,
        resource_class -> Nullable<Text>,
        traits -> Nullable<Text>,
        candidate_nodes -> Nullable<Text>,
        extra -> Nullable<Text>,
        conductor_affinity -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deploy_templates (id) {
        id -> Integer,
        uuid -> Text,
        name -> Text,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deploy_template_steps (id) {
        id -> Integer,
        deploy_template_id -> Integer,
        interface -> Text,
        step -> Text,
        args -> Text,
        priority -> Integer,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    runbooks (id) {
        id -> Integer,
        uuid -> Text,
        name -> Text,
        description -> Nullable<Text>,
        public -> Bool,
        owner -> Nullable<Text>,
        disable_ramdisk -> Bool,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    runbook_steps (id) {
        id -> Integer,
        runbook_id -> Integer,
        interface -> Text,
        step -> Text,
        args -> Text,
        #[sql_name = "order"]
        order_ -> Integer,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    runbook_traits (runbook_id, trait_) {
        runbook_id -> Integer,
        #[sql_name = "trait"]
        trait_ -> Text,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inspection_rules (id) {
        id -> Integer,
        uuid -> Text,
        priority -> Integer,
        description -> Nullable<Text>,
        scope -> Nullable<Text>,
        sensitive -> Bool,
        phase -> Text,
        conditions -> Nullable<Text>,
        actions -> Text,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    firmware_information (id) {
        id -> Integer,
        node_id -> Integer,
        component -> Text,
        initial_version -> Text,
        current_version -> Nullable<Text>,
        last_version_flashed -> Nullable<Text>,
        vendor -> Nullable<Text>,
        model -> Nullable<Text>,
        serial_number -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    node_sensor_samples (id) {
        id -> Integer,
        node_id -> Integer,
        sensor_type -> Text,
        name -> Text,
        reading -> Nullable<Double>,
        unit -> Text,
        health -> Nullable<Text>,
        lower_critical -> Nullable<Double>,
        lower_non_critical -> Nullable<Double>,
        upper_non_critical -> Nullable<Double>,
        upper_critical -> Nullable<Double>,
        latest -> Bool,
        collected_at -> Timestamp,
    }
}

diesel::table! {
    images (id) {
        id -> Integer,
        uuid -> Text,
        name -> Nullable<Text>,
        disk_format -> Text,
        status -> Text,
        size -> Nullable<BigInt>,
        virtual_size -> Nullable<BigInt>,
        os_hash_algo -> Nullable<Text>,
        os_hash_value -> Nullable<Text>,
        uploaded_checksum -> Nullable<Text>,
        uploaded_size -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(ports -> nodes (node_id));
diesel::joinable!(portgroups -> nodes (node_id));
diesel::joinable!(volume_connectors -> nodes (node_id));
diesel::joinable!(volume_targets -> nodes (node_id));
diesel::joinable!(node_traits -> nodes (node_id));
diesel::joinable!(bios_settings -> nodes (node_id));
diesel::joinable!(node_history -> nodes (node_id));
diesel::joinable!(node_inventory -> nodes (node_id));
diesel::joinable!(deploy_template_steps -> deploy_templates (deploy_template_id));
diesel::joinable!(runbook_steps -> runbooks (runbook_id));
diesel::joinable!(runbook_traits -> runbooks (runbook_id));
diesel::joinable!(firmware_information -> nodes (node_id));
diesel::joinable!(node_sensor_samples -> nodes (node_id));
diesel::joinable!(task_log_lines -> tasks (task_id));
diesel::joinable!(tasks -> nodes (node_id));

diesel::allow_tables_to_appear_in_same_query!(
    allocations,
    bios_settings,
    chassis,
    conductors,
    deploy_template_steps,
    deploy_templates,
    firmware_information,
    images,
    inspection_rules,
    node_history,
    node_inventory,
    node_sensor_samples,
    node_traits,
    nodes,
    portgroups,
    ports,
    runbook_steps,
    runbook_traits,
    runbooks,
    task_log_lines,
    tasks,
    volume_connectors,
    volume_targets
);

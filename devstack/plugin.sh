#!/bin/bash
#
# plugin.sh - devstack plugin for Berth
#
# The devstack plugin contract: devstack sources this file as
#   plugin.sh stack (pre-install|install|post-config|extra|test-config)
#   plugin.sh unstack
#   plugin.sh clean
# with devstack/settings already sourced.

echo_summary "berth devstack plugin.sh called: $1/$2"
source "$BERTH_REPO_DIR/devstack/lib/berth"

if is_service_enabled berth-api berth-cond; then

    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        # After the layer 1 and 2 projects and their dependencies are
        # installed.
        echo_summary "Installing Berth"
        install_berth

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        # After the layer 1 and 2 services are configured; Keystone runs.
        echo_summary "Configuring Berth"
        configure_berth
        create_berth_accounts

    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        # Near the end, once the layer 1 and 2 services have started.
        echo_summary "Initializing and starting Berth"
        init_berth
        start_berth
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_berth
    fi

    if [[ "$1" == "clean" ]]; then
        # clean.sh has already called unstack.sh.
        cleanup_berth
    fi
fi

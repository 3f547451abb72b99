# bash completion for hostagentctl: commands, options, and the names of VMs, pools, volumes,
# networks and jobs, asked live from the agent (the same host -H names, if any).

# __hostagentctl_names HOST VERB [ARG]: the first column of a listing, without its header.
__hostagentctl_names() {
        local host=$1; shift
        local opts=(--no-legend --no-ask-password)
        [ -n "$host" ] && opts+=(--host="$host")
        hostagentctl "${opts[@]}" "$@" 2>/dev/null | while read -r name _; do printf '%s\n' "$name"; done
}

_hostagentctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
        local commands="status host-info host-stats list show create create-xml start destroy pause resume
                reboot reset undefine shutdown migrate backup console-ticket stats attach-disk detach-disk attach-nic detach-nic
                set-memory set-vcpus apply guest-info freeze thaw snapshot snapshots revert delete-snapshot networks show-network setup-networks
                confirm-networks network-caps pools show-pool create-pool volumes create-volume resize-volume
                clone-volume delete-volume activate-pool deactivate-pool refresh-pool delete-pool jobs cancel
                wait monitor"
        local options="--help --version --host= --json= --no-legend --quiet --no-wait --no-ask-password"
        local host="" verb="" i w args=()

        # The words so far: -H's value, the command, and the arguments after it.
        for ((i = 1; i < COMP_CWORD; i++)); do
                w=${COMP_WORDS[i]}
                case "$w" in
                -H|--host) host=${COMP_WORDS[i+1]}; ((i++)) ;;
                --host=*) host=${w#--host=} ;;
                -*) ;;
                *) if [ -z "$verb" ]; then verb=$w; else args+=("$w"); fi ;;
                esac
        done

        case "$prev" in
        -H|--host) COMPREPLY=($(compgen -A hostname -- "$cur")); return ;;
        esac
        case "$cur" in
        --json=*) COMPREPLY=($(compgen -P --json= -W "pretty short" -- "${cur#--json=}")); return ;;
        --convergence=*)
                COMPREPLY=($(compgen -P --convergence= -W "downtime-steps auto-converge postcopy none" -- "${cur#--convergence=}"))
                return ;;
        --format=*) COMPREPLY=($(compgen -P --format= -W "qcow2 raw" -- "${cur#--format=}")); return ;;
        --backing=*)
                COMPREPLY=($(compgen -P --backing= -W "$(__hostagentctl_names "$host" volumes "${args[0]}")" -- "${cur#--backing=}"))
                return ;;
        -*)
                case "$verb" in
                shutdown) options+=" --timeout=" ;;
                migrate) options+=" --bandwidth= --max-downtime= --convergence= --stall-timeout= --migration-uri= --allow-unsafe" ;;
                backup) options+=" --quiesce --incremental= --bandwidth=" ;;
                console-ticket) options+=" --ttl= --password=" ;;
                create-volume) options+=" --format= --backing=" ;;
                setup-networks) options+=" --dry-run --confirm-timeout=" ;;
                attach-disk|attach-nic) options+=" --live-only --config-only" ;;
                apply) options+=" --dry-run --restart" ;;
                snapshot) options+=" --memory --quiesce --disk=" ;;
                esac
                COMPREPLY=($(compgen -W "$options" -- "$cur"))
                [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
                return ;;
        esac

        if [ -z "$verb" ]; then
                COMPREPLY=($(compgen -W "$commands" -- "$cur"))
                return
        fi
        local n=${#args[@]} words=""
        case "$verb" in
        start|destroy|pause|resume|reboot|reset|undefine)
                words=$(__hostagentctl_names "$host" list) ;;
        show|shutdown|migrate|console-ticket|stats|detach-disk|detach-nic|set-memory|set-vcpus|guest-info|freeze|thaw|snapshot|snapshots)
                [ "$n" -eq 0 ] && words=$(__hostagentctl_names "$host" list) ;;
        revert|delete-snapshot)
                if [ "$n" -eq 0 ]; then words=$(__hostagentctl_names "$host" list)
                elif [ "$n" -eq 1 ]; then words=$(__hostagentctl_names "$host" snapshots "${args[0]}"); fi ;;
        attach-disk|attach-nic)
                if [ "$n" -eq 0 ]; then words=$(__hostagentctl_names "$host" list)
                else COMPREPLY=($(compgen -f -- "$cur")); return; fi ;;
        create|create-xml|create-pool|setup-networks|apply)
                [ "$n" -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur")) && return ;;
        show-network)
                [ "$n" -eq 0 ] && words=$(__hostagentctl_names "$host" networks) ;;
        show-pool|volumes|activate-pool|deactivate-pool|refresh-pool|delete-pool|create-volume)
                [ "$n" -eq 0 ] && words=$(__hostagentctl_names "$host" pools) ;;
        backup)
                if [ "$n" -eq 0 ]; then words=$(__hostagentctl_names "$host" list)
                elif [ "$n" -eq 1 ]; then words=$(__hostagentctl_names "$host" pools); fi ;;
        resize-volume|clone-volume|delete-volume)
                if [ "$n" -eq 0 ]; then words=$(__hostagentctl_names "$host" pools)
                elif [ "$n" -eq 1 ]; then words=$(__hostagentctl_names "$host" volumes "${args[0]}"); fi ;;
        cancel)
                words=$(__hostagentctl_names "$host" jobs) ;;
        wait)
                [ "$n" -eq 0 ] && words=$(__hostagentctl_names "$host" jobs) ;;
        esac
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _hostagentctl hostagentctl

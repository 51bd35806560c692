package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The whole picocli command tree: every option and positional of every command says what it is
 * for, and docs/cli-output.md lists every field name of every command that prints a result.
 */
class CommandTreeTest {

  private static final Path DOC = Path.of("../docs/cli-output.md");

  @Test
  void everyOptionAndPositional_hasADescription() {
    List<String> missing = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    for (CommandSpec command : commands(TetherManagerCli.commandLine().getCommandSpec())) {
      assertThat(String.join(" ", command.usageMessage().description())).as(command.qualifiedName()).isNotBlank();
      for (ArgSpec arg : command.args()) {
        String name = command.qualifiedName() + " " + (arg.isOption()
            ? ((CommandLine.Model.OptionSpec) arg).longestName() : arg.paramLabel());
        seen.add(name);
        if (String.join(" ", arg.description()).isBlank()) {
          missing.add(name);
        }
      }
    }
    assertThat(missing).as("options and positionals without a description").isEmpty();
    assertThat(seen).contains("tether-manager token create --account", "tether-manager token revoke --name",
        "tether-manager delegate install-files --token-name", "tether-manager help COMMAND",
        "tether-manager admin create NAME", "tether-manager delegate delete DELEGATE_ID");
  }

  @Test
  void theTree_hasTheCommandsOfIssue13() {
    List<String> names = commands(TetherManagerCli.commandLine().getCommandSpec()).stream()
        .map(CommandSpec::qualifiedName).toList();
    assertThat(names).contains("tether-manager help", "tether-manager version", "tether-manager completion",
        "tether-manager admin create", "tether-manager admin list", "tether-manager admin revoke",
        "tether-manager admin delete", "tether-manager admin whoami", "tether-manager delegate delete",
        "tether-manager delegate prune");
  }

  @Test
  void aCommandLineNamingACommand_getsThatCommandAlone_withTheSameOptionsAndHelp() {
    CommandLine whole = TetherManagerCli.commandLine();
    for (String name : whole.getSubcommands().keySet()) {
      CommandLine lazy = TetherManagerCli.commandLine(name, "--help");
      if (name.equals("help") || name.equals("completion")) {
        assertThat(lazy.getSubcommands().keySet()).as(name).isEqualTo(whole.getSubcommands().keySet());
        continue;
      }
      assertThat(lazy.getSubcommands().keySet()).as(name).containsExactly(name);
      List<CommandSpec> expected = commands(whole.getSubcommands().get(name).getCommandSpec());
      List<CommandSpec> actual = commands(lazy.getSubcommands().get(name).getCommandSpec());
      assertThat(actual).extracting(CommandSpec::qualifiedName)
          .containsExactlyElementsOf(expected.stream().map(CommandSpec::qualifiedName).toList());
      for (int i = 0; i < expected.size(); i++) {
        assertThat(actual.get(i).commandLine().getUsageMessage()).as(expected.get(i).qualifiedName())
            .isEqualTo(expected.get(i).commandLine().getUsageMessage());
      }
    }
  }

  @Test
  void aCommandLineNamingNoCommand_getsTheWholeTree_forHelpAndSuggestions() {
    int whole = TetherManagerCli.commandLine().getSubcommands().size();
    assertThat(whole).isEqualTo(10);
    for (String[] args : List.of(new String[0], new String[] {"--help"}, new String[] {"tokn", "list"},
        new String[] {"help", "token"}, new String[] {"completion"}, new String[] {"-V"})) {
      assertThat(TetherManagerCli.commandLine(args).getSubcommands()).as(String.join(" ", args)).hasSize(whole);
    }
  }

  @Test
  void docsCliOutput_listsEveryFieldOfEveryCommand() throws Exception {
    String doc = Files.readString(DOC);
    List<String> missing = new ArrayList<>();
    int commands = 0;
    for (CommandSpec command : commands(TetherManagerCli.commandLine().getCommandSpec())) {
      if (!(command.userObject() instanceof AdminCommand admin)) {
        continue;
      }
      commands++;
      String heading = "### `" + command.qualifiedName() + "`";
      int start = doc.indexOf(heading);
      if (start < 0) {
        missing.add(heading);
        continue;
      }
      int end = doc.indexOf("\n### ", start + heading.length());
      String section = doc.substring(start, end < 0 ? doc.length() : end);
      for (String field : admin.fields()) {
        if (!section.contains("`" + field + "`")) {
          missing.add(command.qualifiedName() + ": `" + field + "`");
        }
      }
    }
    assertThat(commands).isEqualTo(18);
    assertThat(missing).as("in " + DOC).isEmpty();
  }

  private static List<CommandSpec> commands(CommandSpec root) {
    List<CommandSpec> all = new ArrayList<>();
    all.add(root);
    for (CommandLine sub : root.subcommands().values()) {
      all.addAll(commands(sub.getCommandSpec()));
    }
    return all;
  }
}

// A real HDFS on loopback for tests: Hadoop's MiniDFSCluster with one
// namenode and one datanode, WebHDFS on, permissions off, every socket on
// 127.0.0.1 and the ports the tests name. scripts/hdfs.sh compiles it
// against the jars of scripts/hdfs/pom.xml and runs it in the background:
//
//   java -cp LIB/*:CLASSES MiniHdfs BASEDIR RPC_PORT HTTP_PORT DN_HTTP_PORT DN_PORT DN_IPC_PORT
//
//   BASEDIR       the cluster's directories (hdfs.minidfs.basedir): formatted
//                 on the first start, reopened as they are on the next (a
//                 killed cluster started again keeps its files)
//   RPC_PORT      the namenode's RPC port (hdfs://127.0.0.1:RPC_PORT)
//   HTTP_PORT     the namenode's HTTP port, where WebHDFS answers
//   DN_HTTP_PORT  the datanode's HTTP port: WebHDFS's CREATE, APPEND and OPEN
//                 redirect to http://127.0.0.1:DN_HTTP_PORT/webhdfs/v1/…
//   DN_PORT       the datanode's data transfer port (0: a free one)
//   DN_IPC_PORT   the datanode's IPC port (0: a free one)
//
// It prints "hdfs ready: …" once the datanode has registered and the
// namenode has left safe mode (writes are accepted), then runs until it is
// killed; SIGTERM shuts the cluster down.
import java.io.File;
import java.util.Properties;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.log4j.PropertyConfigurator;
import sun.misc.Signal;

public final class MiniHdfs {
  private static final String HOST = "127.0.0.1";

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable e) {
      // Whatever the servers started before this (their threads would
      // keep the JVM alive) goes with it.
      e.printStackTrace();
      System.err.flush();
      Runtime.getRuntime().halt(1);
    }
  }

  private static void run(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: MiniHdfs BASEDIR RPC_PORT HTTP_PORT DN_HTTP_PORT DN_PORT DN_IPC_PORT");
      System.exit(2);
    }
    logging();
    File base = new File(args[0]).getAbsoluteFile();
    int rpcPort = Integer.parseInt(args[1]);
    int httpPort = Integer.parseInt(args[2]);
    int dnHttpPort = Integer.parseInt(args[3]);
    int dnPort = Integer.parseInt(args[4]);
    int dnIpcPort = Integer.parseInt(args[5]);

    Configuration conf = new HdfsConfiguration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getPath());
    conf.set("hadoop.tmp.dir", new File(base, "tmp").getPath());
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.setInt("dfs.replication", 1);
    // The namenode's sockets (the builder sets them from its ports too).
    conf.set("fs.defaultFS", "hdfs://" + HOST + ":" + rpcPort);
    conf.set("dfs.namenode.rpc-address", HOST + ":" + rpcPort);
    conf.set("dfs.namenode.http-address", HOST + ":" + httpPort);
    // The datanode's sockets, and the name it registers with: the namenode
    // redirects WebHDFS's CREATE, APPEND and OPEN to that name and the
    // datanode's HTTP port, so it is the address, not a host name.
    conf.set("dfs.datanode.hostname", HOST);
    conf.set("dfs.datanode.address", HOST + ":" + dnPort);
    conf.set("dfs.datanode.http.address", HOST + ":" + dnHttpPort);
    conf.set("dfs.datanode.ipc.address", HOST + ":" + dnIpcPort);
    conf.setBoolean("dfs.namenode.datanode.registration.ip-hostname-check", false);
    // Out of safe mode as soon as the blocks are reported, whatever space
    // the disk (shared with other tests) has left.
    conf.setInt("dfs.namenode.safemode.extension", 0);
    conf.setLong("dfs.namenode.resource.du.reserved", 0);
    conf.setLong("dfs.datanode.du.reserved", 0);
    conf.setInt("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.blockreport.initialDelay", 0);

    // A cluster formatted before is reopened: the namenode's image is
    // there (written by the format, before the namenode starts).
    boolean format = !new File(base, "name-0-1/current/VERSION").isFile();
    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base)
        .numDataNodes(1)
        .storagesPerDatanode(1)
        .nameNodePort(rpcPort)
        .nameNodeHttpPort(httpPort)
        .setDnHttpPorts(dnHttpPort)
        .setDnIpcPorts(dnIpcPort)
        // Take the datanode's addresses and host name from the
        // configuration above rather than the builder's defaults.
        .checkDataNodeAddrConfig(true)
        .checkDataNodeHostConfig(true)
        .enableManagedDfsDirsRedundancy(false)
        .format(format)
        .waitSafeMode(true)
        .build();
    // SIGTERM (and ^C) shut the cluster down, then the JVM: from a thread
    // of its own rather than a shutdown hook, since the servers remove
    // hooks of their own as they stop, which a JVM already shutting down
    // refuses.
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> new Thread(() -> {
        try {
          cluster.shutdown();
        } finally {
          Runtime.getRuntime().halt(0);
        }
      }, "MiniHdfs shutdown").start());
    }
    cluster.waitActive();
    while (cluster.getNameNode().isInSafeMode()) {
      Thread.sleep(50);
    }
    System.out.println("hdfs ready: namenode http://" + HOST + ":" + cluster.getNameNode().getHttpAddress().getPort()
        + " rpc hdfs://" + HOST + ":" + cluster.getNameNodePort()
        + " datanode http://" + HOST + ":" + cluster.getDataNodes().get(0).getInfoPort()
        + (format ? " (formatted " : " (reopened ") + base + ")");
    System.out.flush();
    Thread.currentThread().join();
  }

  // Hadoop logs through log4j 1 (reload4j): to standard error, at the level
  // of -Dminihdfs.log.level (default INFO), unless -Dlog4j.configuration
  // names a configuration of its own.
  private static void logging() {
    if (System.getProperty("log4j.configuration") != null) {
      return;
    }
    Properties p = new Properties();
    p.setProperty("log4j.rootLogger", System.getProperty("minihdfs.log.level", "INFO") + ", stderr");
    p.setProperty("log4j.appender.stderr", "org.apache.log4j.ConsoleAppender");
    p.setProperty("log4j.appender.stderr.Target", "System.err");
    p.setProperty("log4j.appender.stderr.layout", "org.apache.log4j.PatternLayout");
    p.setProperty("log4j.appender.stderr.layout.ConversionPattern", "%d{ISO8601} %-5p %c{1} [%t]: %m%n");
    PropertyConfigurator.configure(p);
  }
}
